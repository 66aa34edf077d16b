import proxyaddr from 'proxy-addr';

/**
 * Which proxies may tell us the client's address in `X-Forwarded-For`: a hop count (the N nearest
 * proxies) or the proxies' own addresses (IPs, CIDR ranges, and proxy-addr's named ranges).
 * "Trust everyone" (`true`) is refused: any client could then pick its own address and walk past
 * every per-address limit.
 */
export type TrustProxy = number | string[];

export const NAMED_RANGES = ['loopback', 'linklocal', 'uniquelocal'] as const;

const EXAMPLE = "a hop count (e.g. 1) or the proxies' addresses (e.g. loopback, 10.0.0.0/8, 192.168.1.20)";

/** Reads the setting from its text form (`1`, `loopback, 10.0.0.0/8`); throws a message saying what is accepted. */
export function parseTrustProxy(text: string): TrustProxy {
  const value = text.trim();
  if (/^\d+$/.test(value)) return Number(value);
  if (/^(true|false|yes|no|on|off|all|\*)$/i.test(value)) {
    throw new Error(`"${value}" is not accepted: trusting every X-Forwarded-For lets any client choose its address; give ${EXAMPLE}`);
  }
  const entries = value.split(',').map((entry) => entry.trim());
  if (entries.some((entry) => entry === '')) throw new Error(`"${value}" has an empty entry; give ${EXAMPLE}`);
  for (const entry of entries) {
    if ((NAMED_RANGES as readonly string[]).includes(entry)) continue;
    try {
      proxyaddr.compile(entry);
    } catch {
      throw new Error(`"${entry}" is neither an IP address, a CIDR range nor one of ${NAMED_RANGES.join(', ')}; give ${EXAMPLE}`);
    }
  }
  return entries;
}

/** The setting as given to the app: parsed text, or a value already parsed. Booleans are refused. */
export function toTrustProxy(setting: TrustProxy | string): TrustProxy {
  if (typeof setting === 'string') return parseTrustProxy(setting);
  if (typeof setting === 'number' && Number.isInteger(setting) && setting >= 0) return setting;
  if (Array.isArray(setting)) return parseTrustProxy(setting.join(','));
  throw new TypeError(`trust proxy must be a hop count or a list of addresses, not ${JSON.stringify(setting)}: ${EXAMPLE}`);
}

/** proxy-addr's trust function: `(address, hop) => trusted`; without a setting no proxy is trusted. */
export function compileTrust(setting: TrustProxy | undefined): (address: string, hop: number) => boolean {
  if (setting === undefined) return () => false;
  if (typeof setting === 'number') return (_address, hop) => hop < setting;
  return proxyaddr.compile(setting);
}
