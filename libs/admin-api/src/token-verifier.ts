import type { AdminPrincipal } from './admin-token';

/** How a service checks an admin token: the directory reads its table, the others ask it. */
export abstract class TokenVerifier {
  abstract verify(token: string): Promise<AdminPrincipal | null>;
}
