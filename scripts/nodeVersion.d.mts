// Types of nodeVersion.mjs, for the TypeScript tests that import it.
export declare function nodeVersionProblem(version: string, engines: string): string | undefined;
export declare function requiredEngines(packageJsonUrl?: URL): string;
export declare function exitUnlessSupportedNode(): void;
