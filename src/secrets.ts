/**
 * Secrets are never put into messages on purpose (sinks are described without them, credentials
 * travel in headers). This is the net under that rule: every line the CLI prints and every log
 * line passes through `redact`, which replaces each secret the process was given, in the forms it
 * can take on the way (raw, URL-encoded, base64 as in a Basic header), and the userinfo of any URL.
 */
import type { RawSettings } from './settings.js'

const MASK = '***'

/** Replaces the userinfo of URLs (`scheme://user:pass@host`) with ***, up to the last @ before the path. */
export function redactUrl(text: string): string {
  // The password itself may hold '/', ':' or '@': everything between '//' and the last '@' of the
  // word goes, even where a URL parser would have ended the authority sooner.
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^\s"'<>]*)@/gi, `$1${MASK}@`)
}

/** One URL value (a setting): everything between `://` and its last '@' is userinfo, whatever it holds. */
export function redactUrlValue(url: string): string {
  return url.replace(/^([^:/]*:\/\/)[^]*@/, `$1${MASK}@`)
}

/** Every form a secret value can be printed in. */
function forms(secret: string): string[] {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64')
  const out = new Set([
    secret,
    encodeURIComponent(secret),
    encodeURI(secret),
    JSON.stringify(secret).slice(1, -1), // as it appears inside a JSON log line
    b64(secret),
    b64(secret).replace(/=+$/, ''),
    Buffer.from(secret).toString('base64url'),
  ])
  try {
    out.add(decodeURIComponent(secret))
  } catch {
    // not URL-encoded: the raw form is enough
  }
  return [...out].filter((f) => f.length >= 3)
}

export class Redactor {
  private readonly needles: string[]
  readonly secrets: string[]

  constructor(secrets: readonly (string | undefined)[]) {
    this.secrets = secrets.filter((s): s is string => s !== undefined && s !== '')
    const all = new Set<string>()
    for (const s of this.secrets) for (const f of forms(s)) all.add(f)
    // longest first, so a secret that contains another is masked whole
    this.needles = [...all].sort((a, b) => b.length - a.length)
  }

  /**
   * The secrets a command line and environment hold, read before the command line is parsed, so
   * that even a message about a bad flag is masked: the values of --password, --token, --api-token
   * and --influx-url (as `--flag value` or `--flag=value`) and their variables.
   */
  static fromArgv(argv: readonly string[], env: NodeJS.ProcessEnv): Redactor {
    const settings: RawSettings = {
      ...(env.INFLUX_USERNAME !== undefined ? { username: env.INFLUX_USERNAME } : {}),
      ...(env.INFLUX_PASSWORD !== undefined ? { password: env.INFLUX_PASSWORD } : {}),
      ...(env.INFLUX_TOKEN !== undefined ? { token: env.INFLUX_TOKEN } : {}),
      ...(env.API_TOKEN !== undefined ? { apiToken: env.API_TOKEN } : {}),
      ...(env.INFLUX_URL !== undefined ? { influxUrl: env.INFLUX_URL } : {}),
    }
    const flags = { '--username': 'username', '--password': 'password', '--token': 'token', '--api-token': 'apiToken', '--influx-url': 'influxUrl' } as const
    const extra: string[] = []
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!
      const eq = a.indexOf('=')
      const flag = (eq > 0 ? a.slice(0, eq) : a) as keyof typeof flags
      if (!(flag in flags)) continue
      const value = eq > 0 ? a.slice(eq + 1) : argv[i + 1]
      if (value === undefined) continue
      const name = flags[flag]
      // the variable a flag overrides is a secret too (the URL's, only its userinfo)
      const before = settings[name]
      if (before !== undefined && name === 'influxUrl') extra.push(...Redactor.fromSettings({ influxUrl: before }).secrets)
      else if (before !== undefined && name !== 'username') extra.push(before)
      settings[name] = value
    }
    const r = Redactor.fromSettings(settings)
    const combos = settings.username !== undefined ? extra.map((p) => `${settings.username}:${p}`) : []
    return extra.length > 0 ? new Redactor([...r.secrets, ...extra, ...combos]) : r
  }

  /** The secrets among `settings` (passwords, tokens, the URL's userinfo), in every form. */
  static fromSettings(settings: RawSettings): Redactor {
    const { username, password, token, apiToken, influxUrl } = settings
    const secrets = [password, token, apiToken]
    if (username !== undefined && password !== undefined) secrets.push(`${username}:${password}`)
    const userinfo = influxUrl === undefined ? undefined : /:\/\/([^\s]*)@/.exec(influxUrl)?.[1]
    if (userinfo !== undefined) secrets.push(userinfo, ...userinfo.split(':').slice(1))
    return new Redactor(secrets)
  }

  /**
   * The secrets a database client holds, for scrubbing what its server answers: a server or proxy
   * may echo the request's Authorization header (Basic's base64, v2's `Token`, v3's `Bearer`) or
   * the user and password in an error body, and that text is quoted in errors that reach files,
   * the store and the API. Each client redacts its answers where it reads them.
   */
  static forCredentials(c: { username?: string | undefined; password?: string | undefined; token?: string | undefined }): Redactor {
    const secrets = [c.password, c.token]
    if (c.username !== undefined) secrets.push(`${c.username}:${c.password ?? ''}`)
    return new Redactor(secrets)
  }

  redact(text: string): string {
    let out = redactUrl(text)
    for (const n of this.needles) if (out.includes(n)) out = out.split(n).join(MASK)
    return out
  }
}
