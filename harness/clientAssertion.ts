// How a private_key_jwt consumer gets a token: one command a team can paste anywhere Node.js 18+
// runs, with nothing installed. It signs a client assertion (RFC 7523 §2.2) with the team's
// private key and asks the token endpoint for a client credentials token. The claims are Okta's
// (developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/create-sign-jwt/): iss and
// sub are the client id, aud the full token URL, exp at most an hour ahead (here 5 minutes), and
// a fresh jti so that no assertion is accepted twice. The rehearsal prints it, the onboarding and
// key-rotation how-tos show it, and the tests run both.

/** The program, one line without single quotes, for `node -e '…' KEY_FILE CLIENT_ID TOKEN_URL SCOPE [KID]`. */
export const PRIVATE_KEY_JWT_TOKEN_JS = [
    `const c=require("crypto"),[key,id,url,scope,kid]=process.argv.slice(1),b=o=>Buffer.from(JSON.stringify(o)).toString("base64url"),t=Math.floor(Date.now()/1e3)`,
    `,h=b({alg:"RS256",typ:"JWT",...(kid?{kid}:{})})+"."+b({iss:id,sub:id,aud:url,iat:t,exp:t+300,jti:c.randomUUID()});`,
    `fetch(url,{method:"POST",body:new URLSearchParams({grant_type:"client_credentials",scope,client_assertion_type:"urn:ietf:params:oauth:client-assertion-type:jwt-bearer",`,
    `client_assertion:h+"."+c.sign("sha256",Buffer.from(h),require("fs").readFileSync(key)).toString("base64url")})})`,
    `.then(r=>r.json()).then(j=>{if(!j.access_token)throw new Error(JSON.stringify(j));console.log(j.access_token)}).catch(e=>{console.error(e.message);process.exit(1)})`,
].join("");

const shellQuote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The command that prints an access token for a private_key_jwt client. */
export function privateKeyJwtTokenCommand(a: { keyFile: string; clientId: string; tokenUrl: string; scope: string; kid?: string }): string {
    const args = [a.keyFile, a.clientId, a.tokenUrl, a.scope, ...(a.kid ? [a.kid] : [])].map(shellQuote);
    return `node -e '${PRIVATE_KEY_JWT_TOKEN_JS}' ${args.join(" ")}`;
}
