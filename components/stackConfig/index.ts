// The stack's configuration: read in one place, validated as a whole before any resource is
// declared. Every problem is reported at once, each naming the exact config key, so that a
// broken stack file costs one `pulumi preview`, not one per mistake.
//
//   source.ts     where the raw values come from (the engine, the Okta provider's variables)
//   schema.ts     each key's shape (zod), also the source of the stack files' JSON Schema; the
//                 gateway key is the gateway's own settings schema, picked
//   okta.ts, server.ts, consumers.ts, delivery.ts, gateway.ts, awsTarget.ts
//                 one module per key: parse, default, check on the defaulted values, emit its spec
//   validate.ts   the whole: aggregates the keys' problems and specs
//   spec.ts       what the program gets: the validated spec types
export * from "./spec";
export { isPrivateCidr, PROJECT_KEY_SCHEMAS } from "./schema";
export { validateStackConfig } from "./validate";
export * from "./source";
