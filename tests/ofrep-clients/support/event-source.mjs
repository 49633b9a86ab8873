// The WHATWG EventSource interface over fetch, for Node 20 (which has no global EventSource; Node 22
// has one behind a flag). It does what a browser's does and what the OFREP web provider relies on:
// open, message and named events, lastEventId, Last-Event-ID on reconnection, the server's retry:,
// readyState, close(). Every connection it opens is recorded in `EventSource.opened`.
export class FetchEventSource extends EventTarget {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 2;
  static opened = [];

  constructor(url) {
    super();
    this.url = String(url);
    this.readyState = FetchEventSource.CONNECTING;
    this.lastEventId = '';
    this._retryMs = 1000;
    this._abort = new AbortController();
    this._connect();
  }

  close() {
    this.readyState = FetchEventSource.CLOSED;
    this._abort.abort();
  }

  async _connect() {
    const headers = { Accept: 'text/event-stream' };
    if (this.lastEventId) headers['Last-Event-ID'] = this.lastEventId;
    FetchEventSource.opened.push({ url: this.url, lastEventId: this.lastEventId });
    try {
      const response = await fetch(this.url, { headers, signal: this._abort.signal });
      if (!response.ok || !(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
        // A browser fails the connection for good on a wrong status or type.
        this.readyState = FetchEventSource.CLOSED;
        this.dispatchEvent(new Event('error'));
        return;
      }
      this.readyState = FetchEventSource.OPEN;
      this.dispatchEvent(new Event('open'));
      await this._read(response.body);
    } catch {
      if (this.readyState === FetchEventSource.CLOSED) return;
    }
    if (this.readyState === FetchEventSource.CLOSED) return;
    this.readyState = FetchEventSource.CONNECTING;
    this.dispatchEvent(new Event('error'));
    setTimeout(() => this.readyState !== FetchEventSource.CLOSED && this._connect(), this._retryMs);
  }

  async _read(body) {
    const decoder = new TextDecoder();
    let buffer = '';
    let name = '';
    let data = [];
    for await (const chunk of body) {
      buffer += decoder.decode(chunk, { stream: true });
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, '');
        buffer = buffer.slice(newline + 1);
        if (line === '') {
          if (data.length > 0) {
            this.dispatchEvent(new MessageEvent(name || 'message', { data: data.join('\n'), lastEventId: this.lastEventId }));
          }
          name = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') name = value;
        else if (field === 'data') data.push(value);
        else if (field === 'id') this.lastEventId = value;
        else if (field === 'retry' && /^\d+$/.test(value)) this._retryMs = Number(value);
      }
    }
  }
}
