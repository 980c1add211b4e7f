import { clientErrorResponse, verifyJsonBody } from './input-gate';

describe('input gate', () => {
  it('answers requests Node refuses with a whole HTTP response carrying problem+json', () => {
    for (const [code, status] of [
      ['HPE_HEADER_OVERFLOW', 431],
      ['ERR_HTTP_REQUEST_TIMEOUT', 408],
      ['HPE_INVALID_METHOD', 400],
      [undefined, 400],
    ] as const) {
      const raw = clientErrorResponse(code);
      const [head, body] = raw.split('\r\n\r\n');
      expect(head).toMatch(new RegExp(`^HTTP/1\\.1 ${status} [A-Za-z ]+\\r\\n`));
      expect(head).toContain('Content-Type: application/problem+json; charset=utf-8');
      expect(head).toContain(`Content-Length: ${Buffer.byteLength(body)}`);
      expect(JSON.parse(body)).toMatchObject({ type: `https://bridgekeeper.dev/problems/${status}`, status });
    }
  });

  it('reads JSON in UTF-8 only: another charset is a 415, bytes that are not UTF-8 a 400', () => {
    const utf8 = Buffer.from('{"a":"é😀"}');
    expect(() => verifyJsonBody(null, null, utf8, 'utf-8')).not.toThrow();
    expect(() => verifyJsonBody(null, null, Buffer.from('{"a":"é"}', 'utf16le'), 'utf-16le')).toThrow(expect.objectContaining({ status: 415 }));
    expect(() => verifyJsonBody(null, null, Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]), 'utf-8')).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => verifyJsonBody(null, null, Buffer.from([0x22, 0xff, 0x22]), 'utf-8')).toThrow(expect.objectContaining({ status: 400 }));
  });
});
