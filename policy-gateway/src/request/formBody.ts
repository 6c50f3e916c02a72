// Method overrides inside form bodies: express's method-override reading `req.body._method`, Hono's
// methodOverride (form field `_method`, honoured for PUT, PATCH and OPTIONS too), Rails, Laravel and
// Symfony all run another method than the request line's when a form field says so. The gateway
// reads such bodies as they stream through (never buffered, never a size limit), with the parser
// the frameworks use for multipart (busboy, under multer and Fastify) and the name rules of PHP
// (phpParameterName), and hands each chunk on only once it is read, so a `_method` field is seen
// before the upstream can have the whole body.
import busboy from "busboy";
import { Transform, type TransformCallback } from "node:stream";
import { formDecode, isMethodOverrideParam, phpParameterName } from "./requestShape";
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

/** Raw characters of a name kept to decide it: a name that mangles to `_method` is short before any NUL (PHP). */
const NAME_PREFIX = 256;
/** Raw characters of an override's value kept: a method name is short. */
const VALUE_PREFIX = 64;

/**
 * Finds `_method` pairs in an urlencoded body fed in chunks (a pair may straddle two), holding
 * no more of the body than one name's first characters and an override's value: the value of any
 * other pair is skipped as it passes, whatever its size.
 */
export class UrlencodedOverrideScanner {
    /** The current pair's name (leading space encodings dropped, at most NAME_PREFIX characters). */
    private name = "";
    /** The current pair's raw value, kept only when its name is an override. */
    private value: string | undefined;
    /** In the value of a pair that is no override. */
    private skipping = false;

    /** The override values of the pairs completed by this chunk. */
    feed(chunk: Buffer): string[] {
        const text = chunk.toString("latin1");
        const found: string[] = [];
        for (let at = 0; ;) {
            const amp = text.indexOf("&", at);
            this.take(text.slice(at, amp === -1 ? text.length : amp));
            if (amp === -1) return found;
            this.finish(found);
            at = amp + 1;
        }
    }

    /** The last pair, once the body has ended. */
    end(): string[] {
        const found: string[] = [];
        this.finish(found);
        return found;
    }

    private take(part: string): void {
        if (this.skipping) return;
        if (this.value !== undefined) {
            if (this.value.length < VALUE_PREFIX) this.value = (this.value + part).slice(0, VALUE_PREFIX);
            return;
        }
        const eq = part.indexOf("=");
        // Leading spaces (`+`, `%20`) never count (PHP drops them), so they are not kept either.
        this.name = (this.name + (eq === -1 ? part : part.slice(0, eq))).replace(/^(?:\+|%20)+/i, "").slice(0, NAME_PREFIX);
        if (eq === -1) return;
        if (this.isOverride()) this.value = part.slice(eq + 1, eq + 1 + VALUE_PREFIX);
        else this.skipping = true;
    }

    private finish(found: string[]): void {
        if (this.value !== undefined) found.push(formDecode(this.value));
        else if (!this.skipping && this.name !== "" && this.isOverride()) found.push("");
        this.name = "";
        this.value = undefined;
        this.skipping = false;
    }

    /** Decided on the kept prefix: as the whole name when it fits, and counting a cut `_method[…` as the array it would be. */
    private isOverride(): boolean {
        return isMethodOverrideParam(this.name) || (this.name.length === NAME_PREFIX && isMethodOverrideParam(`${this.name}]`));
    }
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
