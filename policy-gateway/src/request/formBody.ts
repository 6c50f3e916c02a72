// Method overrides inside form bodies: express's method-override reading `req.body._method`, Hono's
// methodOverride (form field `_method`, honoured for PUT, PATCH and OPTIONS too), Rails, Laravel and
// Symfony all run another method than the request line's when a form field says so. The gateway
// reads such bodies as they stream through (never buffered, never a size limit), with the parser
// the frameworks use for multipart (busboy, under multer and Fastify) and the name rules of PHP
// (phpParameterName), and hands each chunk on only once it is read, so a `_method` field is seen
// before the upstream can have the whole body.
import busboy from "busboy";
import { Transform, type TransformCallback } from "node:stream";
import { formDecode, isMethodOverrideParam, pairName, phpParameterName } from "./requestShape";
import { METHOD_OVERRIDE_PARAM } from "./headerNames";

export type FormKind = "urlencoded" | "multipart";

/** Which form encoding a Content-Type names (RFC 9110 media types compare case-insensitively), or undefined. */
export function formKindOf(contentType: string | undefined): FormKind | undefined {
    const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
    if (type === "application/x-www-form-urlencoded") return "urlencoded";
    if (type === "multipart/form-data") return "multipart";
    return undefined;
}

/** A multipart part's name, as the frameworks behind would register it: `_method` in any of PHP's spellings. */
export function isMethodOverrideFieldName(name: string): boolean {
    return phpParameterName(name).toLowerCase() === METHOD_OVERRIDE_PARAM;
}

/** Finds `_method` pairs in an urlencoded body fed in chunks (a pair may straddle two). */
export class UrlencodedOverrideScanner {
    private carry = "";

    /** The override values of the pairs completed by this chunk. */
    feed(chunk: Buffer): string[] {
        const text = this.carry + chunk.toString("latin1");
        const end = text.lastIndexOf("&");
        if (end === -1) {
            this.carry = text;
            return [];
        }
        this.carry = text.slice(end + 1);
        return overrides(text.slice(0, end));
    }

    /** The last pair, once the body has ended. */
    end(): string[] {
        const last = overrides(this.carry);
        this.carry = "";
        return last;
    }
}

function overrides(pairs: string): string[] {
    return pairs
        .split("&")
        .filter((pair) => pair !== "" && isMethodOverrideParam(pairName(pair)))
        .map((pair) => (pair.includes("=") ? formDecode(pair.slice(pair.indexOf("=") + 1)) : ""));
}

/**
 * The body as it goes upstream: each chunk read for method overrides first, then passed on. On the
 * first override `allows` refuses, or a multipart body busboy cannot read, the stream fails with an
 * OverrideInBody, and the upstream never gets the rest (so never the whole form it would act on).
 */
export class FormOverrideInspector extends Transform {
    private readonly urlencoded?: UrlencodedOverrideScanner;
    private readonly multipart?: busboy.Busboy;
    private found: string[] = [];
    private malformed?: string;

    constructor(
        kind: FormKind,
        headers: Record<string, string | string[] | undefined>,
        /** Whether this request may run `method` (upper-cased) instead of its own. */
        private readonly allows: (method: string) => boolean,
    ) {
        super();
        if (kind === "urlencoded") this.urlencoded = new UrlencodedOverrideScanner();
        else {
            try {
                this.multipart = busboy({ headers: { "content-type": String(headers["content-type"] ?? "") }, defParamCharset: "utf8" });
            } catch (e) {
                this.malformed = (e as Error).message;
                return;
            }
            this.multipart.on("field", (name, value) => void (isMethodOverrideFieldName(name) && this.found.push(value)));
            this.multipart.on("file", (name, file) => {
                if (isMethodOverrideFieldName(name)) this.found.push("");
                file.resume();
            });
            this.multipart.on("error", (e: Error) => (this.malformed = e.message));
        }
    }

    private verdict(methods: string[]): Error | undefined {
        if (this.malformed) return new OverrideInBody(undefined, `malformed multipart body: ${this.malformed}`);
        const refused = methods.map((m) => m.trim().toUpperCase()).find((m) => !this.allows(m));
        return refused === undefined
            ? undefined
            : new OverrideInBody(refused, `a ${METHOD_OVERRIDE_PARAM} field in the form body names ${refused || "a method"}`);
    }

    override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
        let methods: string[];
        if (this.urlencoded) methods = this.urlencoded.feed(chunk);
        else {
            this.multipart?.write(chunk); // busboy parses synchronously: a field ended in this chunk is reported now
            methods = this.found;
            this.found = [];
        }
        const refusal = this.verdict(methods);
        if (refusal) return done(refusal);
        done(null, chunk);
    }

    override _flush(done: TransformCallback): void {
        let methods: string[] = [];
        if (this.urlencoded) methods = this.urlencoded.end();
        else {
            this.multipart?.end();
            methods = this.found;
        }
        done(this.verdict(methods) ?? null);
    }
}

/** The body named a method override the gateway refuses (`method`), or could not be read (no method). */
export class OverrideInBody extends Error {
    constructor(
        readonly method: string | undefined,
        readonly reason: string,
    ) {
        super(reason);
        this.name = "OverrideInBody";
    }
}
