export type ConnectionStatus = 'active' | 'disabled' | 'disconnected';

export interface Network {
  id: string;
  name: string;
  createdAt: number;
}

export interface ApiScope {
  scope: string;
  description: string;
}

export interface Api {
  id: string;
  audience: string;
  name: string;
  isDefault: boolean;
  scopes: ApiScope[];
}

export interface AppScope {
  apiId: string;
  audience: string;
  scope: string;
  reason: string;
}

export interface App {
  id: string;
  orgId: string | null;
  name: string;
  developerName: string;
  description: string;
  homepageUrl: string | null;
  logoUrl: string | null;
  published: boolean;
  tokenTtl: number;
  termsVersion: number;
  scopes: AppScope[];
}

export interface Group {
  id: string;
  networkId: string;
  name: string;
  tenantCount: number;
  connectionCount: number;
}

export interface ConsentedScope {
  apiId: string;
  audience: string;
  scope: string;
}

export interface Consent {
  id: string;
  approvedBy: string;
  approvedAt: number;
  scopes: ConsentedScope[];
  termsVersion: number;
}

export interface Connection {
  id: string;
  networkId: string;
  groupId: string;
  appId: string;
  clientId: string;
  status: ConnectionStatus;
  consent: Consent | null;
  createdAt: number;
}

export interface SecretInfo {
  id: string;
  hint: string;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

/** Who made a change, as recorded in the audit log: `user:<id>`, `cli:<os user>`, `system`. */
export interface Actor {
  id: string;
  requestId?: string | undefined;
}

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
