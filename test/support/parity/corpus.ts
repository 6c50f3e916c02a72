// The bypass corpus: every spelling of a request for a protected handler that some router may take
// for the real one, and the unprotected controls a gateway must not refuse. Targets are sent as
// written (no client re-encodes them).

export interface Shape {
    method: string;
    target: string;
    headers?: Record<string, string>;
    body?: string;
    /** false: sent without a token (a preflight). */
    token?: boolean;
    /** The method an override in it names, for the frameworks that honour that override. */
    override?: string;
    /** Why the gateway refuses it although every framework here agrees on it: a server outside the suite reads it otherwise. */
    refusedBecause?: string;
}

const FORM = { "content-type": "application/x-www-form-urlencoded" };
const BOUNDARY = "parityboundary";
const multipart = (name: string, value: string) => `--${BOUNDARY}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n--${BOUNDARY}--\r\n`;

/** Spellings of one path, as routers fold them: case, slashes, dot segments, encodings, look-alikes, parameters. */
function spellings(path: string): string[] {
    const [first, ...rest] = path.slice(1).split("/");
    const tail = rest.length ? `/${rest.join("/")}` : "";
    const encodedFirst = `%${first.charCodeAt(0).toString(16)}${first.slice(1)}`;
    return [
        path,
        `${path}/`,
        path.toUpperCase(),
        `/${first[0].toUpperCase()}${first.slice(1)}${tail}`,
        `/${path}`,
        `${path}//`,
        `/./${first}${tail}`,
        `${path}/.`,
        `/x/..${path}`,
        `/x/%2e%2e${path}`,
        `/x/%2E%2E${path}`,
        `/x/.%2e${path}`,
        `/${encodedFirst}${tail}`,
        `/%25${encodedFirst.slice(1)}${tail}`,
        `${path}%2f`,
        `${path}%2F.`,
        `${path}%5c`,
        `${path}\\`,
        `${path};x=1`,
        `/${first};${tail}`,
        `${path}%3bx=1`,
        `${path}%00`,
        `${path}%20`,
        `${path}.`,
        `${path}#x`,
        `${path}?x=1`,
        `${path}/..%2f`,
    ];
}

/** The protected handlers, each in every spelling, by the methods that reach them. */
export function bypassCorpus(): Shape[] {
    const shapes: Shape[] = [];
    for (const target of spellings("/settings")) shapes.push({ method: "GET", target });
    for (const target of spellings("/admin/users")) shapes.push({ method: "GET", target });
    for (const target of spellings("/reports")) shapes.push({ method: "GET", target });
    for (const target of [
        "/%C5%BFettings", // ſ (long s): S under Unicode case folding
        "/%EF%BD%93ettings", // fullwidth s
        "/adm%C4%B1n/users", // dotless ı
        "/%EF%BC%A1DMIN/users", // fullwidth A
        "/admin/x/../users",
        "/admin%2fusers",
        "/admin%5cusers",
        "/admin/users%2e",
        "/reports/index.html",
        "/reports/x",
        "/%2561dmin/users",
        "http://127.0.0.1/settings",
        "http://127.0.0.1//admin/users",
    ])
        shapes.push({ method: "GET", target });
    for (const method of ["HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]) {
        shapes.push({ method, target: "/settings" }, { method, target: "/admin/users" }, { method, target: "/reports/" });
    }
    // A preflight: no token, the CORS request headers.
    shapes.push({
        method: "OPTIONS",
        target: "/admin/users",
        token: false,
        headers: { origin: "https://app.example", "access-control-request-method": "GET" },
    });
    for (const target of [
        "/orders/42",
        "/orders/42/",
        "/ORDERS/42",
        "//orders/42",
        "/orders/42/.",
        "/orders//42",
        "/orders/42;x",
        "/orders/42%3b",
        "/orders/x/../42",
    ])
        shapes.push({ method: "DELETE", target });
    // Method overrides by header, query and form field.
    for (const name of ["X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"])
        shapes.push({ method: "POST", target: "/orders/42", headers: { [name]: "DELETE" }, override: "DELETE" });
    for (const query of ["_method=DELETE", "_method=delete", ".method=DELETE", "%5Fmethod=DELETE"])
        shapes.push({ method: "POST", target: `/orders/42?${query}`, override: "DELETE" });
    shapes.push(
        { method: "POST", target: "/orders/42", headers: FORM, body: "_method=DELETE", override: "DELETE" },
        { method: "POST", target: "/orders/42", headers: FORM, body: "name=x&_method=DELETE", override: "DELETE" },
        {
            method: "POST",
            target: "/orders/42",
            headers: { "content-type": `multipart/form-data; boundary=${BOUNDARY}` },
            body: multipart("_method", "DELETE"),
            override: "DELETE",
        },
        { method: "GET", target: "/orders/42", headers: { "X-HTTP-Method-Override": "DELETE" }, override: "DELETE" },
    );
    return shapes;
}

/** Requests every framework serves with a token of the default scope: the gateway must forward them. */
export function controls(): Shape[] {
    return [
        { method: "GET", target: "/orders/42" },
        { method: "HEAD", target: "/orders/42" },
        { method: "POST", target: "/orders/42", headers: FORM, body: "name=x&qty=2" },
        { method: "GET", target: "/orders/%2541" },
        { method: "GET", target: "/orders/a%3Bb" },
        { method: "GET", target: "/orders/a%20b" },
        { method: "GET", target: "/orders/caf%C3%A9" },
        { method: "GET", target: "/orders/42?x=%2e%2e%2fadmin" },
        { method: "GET", target: "/orders/42;x", refusedBecause: "a raw ';' starts a path parameter for Tomcat, Spring and Jetty (/admin;x is /admin)" },
        { method: "GET", target: "/orders/%2e" },
        { method: "GET", target: "/orders/..%2e" },
    ];
}

export function describeShape(s: Shape): string {
    const extra = [
        s.headers && Object.keys(s.headers).length ? JSON.stringify(s.headers) : "",
        s.body ? `body ${JSON.stringify(s.body)}` : "",
        s.token === false ? "no token" : "",
    ];
    return [s.method, s.target, ...extra.filter(Boolean)].join(" ");
}
