// Runs MATTR's HTTP message signatures library (@mattrglobal/http-signatures,
// as package-lock.json pins it) for tests/tests/webhook_signatures.rs: reads a
// JSON array of jobs on standard input, writes a JSON array of results on
// standard output, one per job.
//
//   {"op": "sign", "url", "method", "headers", "body", "jwk" (private),
//    "components"?: ["@method", ...], "expires"?, "nonce"?, "alg"?}
//     -> {"ok": true, "signature", "signatureInput", "digest"} or {"ok": false, "error"}
//   {"op": "verify", "url", "method", "headers", "body"?, "jwk" (public)}
//     -> {"ok": true, "verified": true|false, "reason"?} or {"ok": false, "error"}
//
// verifyRequest is given the raw body under its option name `body`, and its
// result is read: `verified` must be true. A failed verification is a
// result (`verified: false`), not an error.
"use strict";

const { createSignatureHeader, signEd25519, verifyRequest } = require("@mattrglobal/http-signatures");

async function sign(job) {
  const result = await createSignatureHeader({
    signer: { keyid: job.jwk.kid, sign: signEd25519(job.jwk) },
    url: job.url,
    method: job.method,
    httpHeaders: job.headers,
    body: job.body,
    ...(job.components ? { coveredFields: job.components.map((name) => [name, new Map()]) } : {}),
    ...(job.expires ? { expires: job.expires } : {}),
    ...(job.nonce ? { nonce: job.nonce } : {}),
    ...(job.alg ? { alg: job.alg } : {}),
  });
  if (result.isErr()) {
    return { ok: false, error: result.error.message };
  }
  return { ok: true, ...result.value };
}

async function verify(job) {
  const url = new URL(job.url);
  const headers = Object.fromEntries(Object.entries(job.headers).map(([k, v]) => [k.toLowerCase(), v]));
  headers.host = url.host;
  const request = { method: job.method, url: url.pathname + url.search, headers };
  const result = await verifyRequest({
    request,
    verifier: { keyMap: { [job.jwk.kid]: { key: job.jwk } } },
    ...(job.body !== undefined ? { body: job.body } : {}),
  });
  if (result.isErr()) {
    return { ok: false, error: result.error.message };
  }
  const { verified, reason } = result.value;
  return { ok: true, verified: verified === true, reason: reason ? reason.type : undefined };
}

async function main() {
  let input = "";
  for await (const chunk of process.stdin) {
    input += chunk;
  }
  const results = [];
  for (const job of JSON.parse(input)) {
    try {
      results.push(job.op === "sign" ? await sign(job) : await verify(job));
    } catch (error) {
      results.push({ ok: false, error: String(error && error.message) });
    }
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((error) => {
  process.stderr.write(`crosscheck: ${error && error.stack}\n`);
  process.exit(1);
});
