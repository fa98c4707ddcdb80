/** The longest `Prefer: wait` this service honours, in seconds. */
export const MAX_PREFER_WAIT_SECONDS = 10;

export type PreferWait = { ok: true; waitSeconds: number | undefined } | { ok: false; message: string };

/**
 * Reads the `wait` preference of a Prefer header (RFC 7240): `wait=N`, possibly among other
 * preferences (`respond-async, wait=5`) and with parameters (`wait=5; foo`). Other preferences
 * are ignored; if `wait` appears twice the first counts (RFC 7240 §2). N must be an integer of
 * 0…10 seconds: anything else is an error, not silently clamped, so a client learns its mistake.
 */
export function parsePreferWait(header: string | undefined): PreferWait {
  if (header === undefined) return { ok: true, waitSeconds: undefined };
  for (const preference of header.split(",")) {
    const [nameAndValue = ""] = preference.split(";");
    const separator = nameAndValue.indexOf("=");
    const name = (separator === -1 ? nameAndValue : nameAndValue.slice(0, separator)).trim().toLowerCase();
    if (name !== "wait") continue;
    const raw =
      separator === -1
        ? ""
        : nameAndValue
            .slice(separator + 1)
            .trim()
            .replace(/^"(.*)"$/, "$1");
    if (!/^\d{1,6}$/.test(raw)) return { ok: false, message: "wait must be a whole number of seconds" };
    const seconds = Number(raw);
    if (seconds > MAX_PREFER_WAIT_SECONDS) return { ok: false, message: `wait must be at most ${MAX_PREFER_WAIT_SECONDS} seconds` };
    return { ok: true, waitSeconds: seconds };
  }
  return { ok: true, waitSeconds: undefined };
}
