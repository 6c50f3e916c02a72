// The settings as environment variables, both ways: `toEnvironment` is what a deployer (the
// stack's container and task, the rehearsal) hands the gateway, `fromEnvironment` is what the
// gateway (and the rehearsal, reading back what the stack declared) makes of it. One codec, so
// that what the stack validated is exactly what the container runs. Pure.
import { parseScopeList } from "../verification/scopes";
import { checkSettings, SETTING_NAMES, SETTINGS, type Codec, type GatewaySettings, type SettingName } from "./settings";
import { formatPath } from "../shared/zodIssues";

/** The variables that carry settings. */
export type SettingVariable = (typeof SETTINGS)[SettingName]["variable"];
/** The settings' environment: a misspelt variable is a type error, not a silently ignored one. */
export type SettingsEnvironment = Partial<Record<SettingVariable, string>>;

type Decoded = { ok: true; value: unknown } | { ok: false; problem: string };

const CODECS: Record<Codec, { encode(value: unknown): string; decode(text: string): Decoded }> = {
    text: { encode: (v) => String(v), decode: (t) => ({ ok: true, value: t }) },
    integer: {
        encode: (v) => String(v),
        decode: (t) => (/^\s*-?\d+\s*$/.test(t) ? { ok: true, value: Number(t) } : { ok: false, problem: "must be a whole number" }),
    },
    boolean: {
        encode: (v) => String(v),
        decode: (t) => {
            const v = t.trim().toLowerCase();
            if (v === "true" || v === "1") return { ok: true, value: true };
            if (v === "false" || v === "0") return { ok: true, value: false };
            return { ok: false, problem: "must be true or false" };
        },
    },
    // REQUIRED_SCOPES: space or comma separated, duplicates folded.
    list: { encode: (v) => (v as string[]).join(" "), decode: (t) => ({ ok: true, value: parseScopeList(t) }) },
    json: {
        encode: (v) => JSON.stringify(v),
        decode: (t) => {
            try {
                return { ok: true, value: JSON.parse(t) as unknown };
            } catch {
                return { ok: false, problem: "is not valid JSON" };
            }
        },
    },
};

/** The variable of a setting. */
export const variableOf = (setting: SettingName): SettingVariable => SETTINGS[setting].variable;

/** The environment that makes the gateway run with `settings`: every setting with a value, encoded. */
export function toEnvironment(settings: GatewaySettings): SettingsEnvironment {
    const env: SettingsEnvironment = {};
    for (const name of SETTING_NAMES) {
        const value = settings[name];
        if (value !== undefined) env[variableOf(name)] = CODECS[SETTINGS[name].codec].encode(value);
    }
    return env;
}

export type Decoding = { ok: true; settings: GatewaySettings } | { ok: false; problems: string[] };

/**
 * The settings an environment holds, defaults applied and every rule checked; or every problem,
 * each naming its variable. Empty variables count as unset, as most deployment tools cannot unset
 * one. Values are never echoed: a setting's text may sit beside a secret in a log.
 */
export function fromEnvironment(env: Readonly<Record<string, string | undefined>>): Decoding {
    const problems: string[] = [];
    const input: Record<string, unknown> = {};
    for (const name of SETTING_NAMES) {
        const text = env[variableOf(name)];
        if (text === undefined || text === "") continue;
        const decoded = CODECS[SETTINGS[name].codec].decode(text);
        if (decoded.ok) input[name] = decoded.value;
        else problems.push(`${variableOf(name)}: ${decoded.problem}`);
    }
    // Every problem at once: those of the variables that decoded, too (one that did not is left
    // out, so its default stands in); but not the rules across settings then, which would judge
    // that default instead of the value given.
    const checked = checkSettings(input, (setting, path) => `${variableOf(setting)}${formatPath(path)}`);
    if (checked.ok) return problems.length ? { ok: false, problems } : checked;
    if (checked.stage === "shape" || problems.length === 0)
        problems.push(...checked.problems.map((p) => p.replace(/: is required \(expected \w+\)$/, ": is required")));
    return { ok: false, problems };
}
