// "Did you mean": the known word nearest a misspelt one, for config keys, tiers and scopes. Pure.

/** Levenshtein distance. */
export function editDistance(a: string, b: string): number {
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const row = [i];
        for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        prev = row;
    }
    return prev[b.length];
}

/** The known word a misspelling most likely meant: case aside, at most two edits away (a third of a short word). */
export function nearest(word: string, known: readonly string[]): string | undefined {
    const w = word.toLowerCase();
    const limit = Math.min(2, Math.max(1, Math.floor(w.length / 3)));
    let best: { word: string; distance: number } | undefined;
    for (const k of known) {
        const d = editDistance(w, k.toLowerCase());
        if (d <= limit && (!best || d < best.distance)) best = { word: k, distance: d };
    }
    return best?.word;
}

/** ` (did you mean 'x'?)`, or nothing. */
export function didYouMean(word: string, known: readonly string[], quote = "'"): string {
    const near = nearest(word, known);
    return near === undefined ? "" : ` (did you mean ${quote}${near}${quote}?)`;
}
