// Types for the untyped `sip` package (kirm/sip.js 0.0.6), limited to what carphone uses.
declare module 'sip' {
  export interface SipUri {
    schema?: string;
    user?: string;
    password?: string;
    host: string;
    port?: number;
    params: Record<string, string | null | undefined>;
    headers?: Record<string, string>;
  }
  export interface NameAddr {
    name?: string;
    uri: string;
    params: Record<string, string | null | undefined>;
  }
  export interface Via {
    version?: string;
    protocol?: string;
    host?: string;
    port?: number;
    params: Record<string, string | number | null | undefined>;
  }
  export interface CSeq {
    seq: number;
    method: string;
  }
  export interface Headers {
    via?: Via[];
    to?: NameAddr;
    from?: NameAddr;
    'call-id'?: string;
    cseq?: CSeq;
    contact?: NameAddr[] | '*';
    route?: NameAddr[];
    'record-route'?: NameAddr[];
    'content-type'?: string;
    'content-length'?: number;
    'max-forwards'?: number;
    'www-authenticate'?: AuthHeader[];
    'proxy-authenticate'?: AuthHeader[];
    authorization?: AuthHeader[];
    'proxy-authorization'?: AuthHeader[];
    expires?: number | string;
    [name: string]: unknown;
  }
  export interface AuthHeader {
    scheme: string;
    [param: string]: string | undefined;
  }
  export interface Request {
    method: string;
    uri: string;
    version?: string;
    headers: Headers;
    content?: string;
  }
  export interface Response {
    status: number;
    reason: string;
    version?: string;
    headers: Headers;
    content?: string;
  }
  export type Message = Request | Response;
  export interface Remote {
    protocol: string;
    address: string;
    port: number;
    local?: { address: string; port: number };
  }
  export interface StackOptions {
    address: string;
    port: number;
    publicAddress?: string;
    hostname?: string;
    udp?: boolean;
    tcp?: boolean;
    /**
     * Options for tls.connect and tls.createServer; TLS is off without them. tls.connect hands them on to
     * the socket's connect(), which takes a local address to connect from too.
     */
    tls?: import('node:tls').ConnectionOptions & Pick<import('node:net').TcpNetConnectOpts, 'localAddress'>;
    /** Where the TLS listener binds (5061 when left out). */
    tls_port?: number;
    rport?: boolean;
    maxBytesHeaders?: number;
    maxContentLength?: number;
    logger?: {
      error?: (e: unknown) => void;
      send?: (m: Message, target: Remote) => void;
      recv?: (m: Message, remote: Remote) => void;
    };
  }
  export interface Stack {
    send(message: Request, onResponse?: (rs: Response) => void): void;
    send(message: Response): void;
    destroy(): void;
    hostname(): string;
  }
  export interface Flow {
    send(m: Message): void;
    release(): void;
    protocol: string;
  }
  export interface Transport {
    open(target: Remote, onError?: (e: unknown) => void): Flow;
    get(target: Remote, onError?: (e: unknown) => void): Flow | undefined;
    destroy(): void;
  }
  export interface ServerTransaction {
    send(rs: Response): void;
    message?(m: Message, remote?: Remote): void;
  }
  export interface ClientTransaction {
    message(m: Message, remote?: Remote): void;
  }
  export interface TransactionLayer {
    createServerTransaction(rq: Request, flow: Flow | undefined): ServerTransaction;
    createClientTransaction(flow: Flow, rq: Request, onResponse: (rs: Response) => void): ClientTransaction;
    getServer(m: Message): ServerTransaction | undefined;
    getClient(m: Message): ClientTransaction | undefined;
    destroy(): void;
  }
  export function makeTransport(
    options: StackOptions,
    onMessage: (m: Message, remote: Remote) => void,
  ): Transport;
  export function makeTransactionLayer(options: StackOptions, open: Transport['open']): TransactionLayer;
  export function create(options: StackOptions, onRequest: (rq: Request, remote: Remote) => void): Stack;
  export function makeResponse(
    rq: Request,
    status: number,
    reason?: string,
    extension?: Partial<Response>,
  ): Response;
  export function parseUri(uri: string): SipUri | undefined;
  export function stringifyUri(uri: SipUri): string;
  export function stringify(m: Message): string;
  export function parse(data: string | Buffer): Message | undefined;
  export function generateBranch(): string;
}
