/**
 * Syslog headers on raw lines, so the header never takes part in matching and its host and app name
 * say where the error happened. Pure; linear-time regexes (no nested quantifiers).
 *
 * Recognized (what rsyslog and syslog-ng send with their stock templates):
 *   RFC 5424   `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD…|-] MSG`
 *   RFC 3164   `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG[pid]: MSG`
 *   file formats without PRI (rsyslog RSYSLOG_FileFormat / RSYSLOG_TraditionalFileFormat, syslog-ng
 *   file destinations): `RFC3339-TIMESTAMP HOSTNAME TAG: MSG` and `Mmm dd hh:mm:ss HOSTNAME TAG: MSG`.
 * Anything else is not syslog and is scanned whole.
 */

export interface SyslogLine {
  format: 'rfc5424' | 'rfc3164';
  hostname: string | null;
  appName: string | null;
  /** The message after the header: the text that is scanned. */
  message: string;
}

const RFC5424 = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) /;
const BSD_TIME = '[A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d';
const RFC3339_TIME = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(?:\\.\\d{1,9})?(?:Z|[+-]\\d\\d:\\d\\d)';
// TAG: up to 48 printable characters other than ':', '[' and space, then an optional [pid], then ':'.
const TAG = '([^\\s:\\[\\]]{1,48})(?:\\[[^\\]\\s]{0,32}\\])?: ?';
const RFC3164 = new RegExp(`^(?:<(\\d{1,3})>)?(?:${BSD_TIME}|${RFC3339_TIME}) (\\S+) ${TAG}`);

/** Log levels: where a header would have its host, they mark a plain application log line. */
const LEVEL_WORD = /^(?:trace|debug|info|notice|warn|warning|error|err|crit|critical|fatal|alert|emerg|severe|panic)$/i;

function nil(v: string): string | null {
  return v === '-' ? null : v;
}

/** Skips RFC 5424 structured data (`-` or one or more `[id k="v" …]` elements); returns the MSG start. */
function skipStructuredData(line: string, at: number): number {
  if (line.startsWith('- ', at)) return at + 2;
  if (line.length === at + 1 && line[at] === '-') return at + 1;
  let i = at;
  while (line[i] === '[') {
    let inQuote = false;
    for (i++; i < line.length; i++) {
      const c = line[i];
      if (c === '\\') i++;
      else if (c === '"') inQuote = !inQuote;
      else if (c === ']' && !inQuote) break;
    }
    if (i >= line.length) return -1;
    i++;
  }
  if (i === at) return -1;
  return line[i] === ' ' ? i + 1 : i;
}

export function parseSyslog(line: string): SyslogLine | null {
  const c = line.charCodeAt(0);
  // Cheap first check: '<', a digit (RFC 3339 year) or an upper-case month.
  if (c !== 0x3c && !(c >= 0x30 && c <= 0x39) && !(c >= 0x41 && c <= 0x5a)) return null;
  const m5 = RFC5424.exec(line);
  if (m5) {
    const start = skipStructuredData(line, m5[0].length);
    if (start < 0) return null;
    let message = line.slice(start);
    if (message.startsWith('\uFEFF')) message = message.slice(1); // the BOM RFC 5424 allows before MSG
    return { format: 'rfc5424', hostname: nil(m5[3]!), appName: nil(m5[4]!), message };
  }
  const m3 = RFC3164.exec(line);
  // `2026-05-01T10:00:00Z ERROR db: …` is an application log with a level, not a host `ERROR`.
  if (m3 && LEVEL_WORD.test(m3[2]!)) return null;
  if (m3) return { format: 'rfc3164', hostname: m3[2]!, appName: m3[3]!, message: line.slice(m3[0].length) };
  return null;
}
