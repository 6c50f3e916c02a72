// The stack's configuration: read in one place, validated as a whole before any resource is
// declared. Every problem is reported at once, each naming the exact config key, so that a
// broken stack file costs one `pulumi preview`, not one per mistake.
//
//   source.ts  where the raw values come from (the engine, the Okta provider's variables)
//   schema.ts  each key's shape (zod), also the source of the stack files' JSON Schema
//   rules.ts   the whole: every key parsed, the rules across keys, the defaults
//   spec.ts    what the program gets: the validated spec types
export * from "./spec";
export { isPrivateCidr, PROJECT_KEY_SCHEMAS } from "./schema";
export { validateStackConfig } from "./rules";
export * from "./source";
