/** Permissions a role can grant inside its network. */
export const PERMISSIONS = ['integrations.view', 'integrations.manage', 'users.manage'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const PERMISSION_LABELS: Readonly<Record<Permission, string>> = {
  'integrations.view': 'API & Integrations: View',
  'integrations.manage': 'API & Integrations: Manage',
  'users.manage': 'User Management',
};

export interface User {
  id: string;
  /** Null for operators, who belong to no network. */
  networkId: string | null;
  email: string;
  name: string;
  isOperator: boolean;
  hasPassword: boolean;
  createdAt: number;
  lastSignInAt: number | null;
}

export interface Role {
  id: string;
  networkId: string;
  name: string;
  permissions: Permission[];
  userCount: number;
}
