/** Raw HTTP/1.1 over a TCP socket: for requests no well-behaved client would send. */
import { connect } from 'node:net';

export interface RawResponse {
  /** The status code, or null when the server closed the connection without answering. */
  status: number | null;
  head: string;
  body: string;
}

/**
 * Writes `bytes` (in the given pieces; `hold` leaves the socket open without sending more) and
 * resolves with the first response, once the server answered and either closed the connection or
 * sent the whole body it announced, or with status null if it closed without answering.
 */
export function rawRequest(port: number, pieces: (string | Buffer)[]): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(parse(Buffer.concat(chunks).toString('latin1')));
    };
    socket.on('connect', () => {
      for (const p of pieces) socket.write(p);
    });
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      const r = parse(Buffer.concat(chunks).toString('latin1'));
      const length = /\r\ncontent-length: *(\d+)/i.exec(r.head);
      if (r.status !== null && length && Buffer.byteLength(r.body, 'latin1') >= Number(length[1])) finish();
    });
    socket.on('close', finish);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // The server may reset a connection it refused; what it answered before counts.
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') finish();
      else reject(err);
    });
  });
}

function parse(text: string): RawResponse {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  const split = text.indexOf('\r\n\r\n');
  return { status: m ? Number(m[1]) : null, head: split < 0 ? text : text.slice(0, split), body: split < 0 ? '' : text.slice(split + 4) };
}
