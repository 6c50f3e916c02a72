// The one place that reaches into @pulumi/pulumi's internals, for the mock runtime harness: the
// mock monitor the SDK installs (to see what its mocks' newResource is not told: parent,
// dependencies, protect, import id, URN) and the SDK's own wait for outstanding registrations.
// Behind an explicit version check: another SDK version stops here, before any test can pass for
// the wrong reason.
export interface RegisterRequest {
    getObject?(): { toJavaScript(): unknown } | undefined; // registrations
    getProperties?(): { toJavaScript(): unknown } | undefined; // reads
    getType(): string;
    getName(): string;
    getParent(): string;
    getDependenciesList(): string[];
    getProtect?(): boolean | undefined; // absent on reads
    getImportid?(): string; // registrations: "" unless the import option is set
    getIgnorechangesList?(): string[];
    getRetainondelete?(): boolean | undefined;
}
interface RegisterResponse {
    getUrn(): string;
}
type MonitorMethod = (req: RegisterRequest, cb: (err: unknown, resp?: RegisterResponse) => void) => void;
interface MonitorLike {
    registerResource: MonitorMethod;
    readResource: MonitorMethod;
}
/**
 * The @pulumi/pulumi version whose internals (runtime/state's mock monitor, runtime/settings'
 * waitForRPCs) this harness was read against. Another version fails loudly here, before any test
 * can pass for the wrong reason: re-read those two modules, then update this constant.
 */
export const PULUMI_SDK_VERIFIED = "3.270.0";
const sdkVersion = (require("@pulumi/pulumi/package.json") as { version: string }).version;
if (sdkVersion !== PULUMI_SDK_VERIFIED) {
    throw new Error(
        `harness/pulumiSdk.ts patches internals of @pulumi/pulumi ${PULUMI_SDK_VERIFIED} (runtime/state, runtime/settings), but ${sdkVersion} is installed: ` +
            "check that settings.monitor.registerResource/readResource and waitForRPCs still exist with the same shapes, then update PULUMI_SDK_VERIFIED",
    );
}
const sdkState = require("@pulumi/pulumi/runtime/state") as { getStore(): { settings: { monitor: MonitorLike } } };
const sdkSettings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };

type Method = "registerResource" | "readResource";

/**
 * Calls `observe` for every registration and read the mock monitor receives (`urn` undefined), and
 * again with the URN the engine answered. Install after `pulumi.runtime.setMocks`.
 */
export function onRegistration(observe: (req: RegisterRequest, method: Method, urn?: string) => void): void {
    const monitor = sdkState.getStore().settings.monitor;
    for (const method of ["registerResource", "readResource"] as const) {
        const original = monitor[method].bind(monitor);
        monitor[method] = (req, cb) => {
            observe(req, method);
            original(req, (err, resp) => {
                if (resp) observe(req, method, resp.getUrn());
                cb(err, resp);
            });
        };
    }
}

/** Resolves once every declaration made so far has been registered. */
export function waitForRegistrations(): Promise<void> {
    return sdkSettings.waitForRPCs();
}
