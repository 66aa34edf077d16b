import { sql } from 'drizzle-orm';
import { bigint, boolean, check, index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

export const eventKinds = ['milonga', 'practica', 'festival', 'marathon', 'encuentro', 'class', 'workshop'] as const;
export type EventKind = (typeof eventKinds)[number];

// Millisecond precision everywhere: a keyset cursor is built from a JS Date, which holds
// milliseconds, so a microsecond column would never compare equal to its own cursor.
const instant = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: 'date' });

export const events = pgTable(
  'events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizerId: uuid('organizer_id').notNull(),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    kind: text('kind', { enum: eventKinds }).notNull(),
    city: text('city').notNull(),
    country: text('country'),
    venue: text('venue'),
    startsAt: instant('starts_at').notNull(),
    endsAt: instant('ends_at').notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull(),
  },
  (table) => [
    index('events_created_at_id_idx').on(table.createdAt, table.id),
    index('events_city_lower_idx').on(sql`lower(${table.city})`),
    index('events_starts_at_idx').on(table.startsAt),
    check('events_kind_check', sql`${table.kind} in (${sql.raw(eventKinds.map((kind) => `'${kind}'`).join(', '))})`),
  ],
);

export const danceRoles = ['leader', 'follower', 'both'] as const;
export const roles = ['user', 'moderator', 'admin'] as const;
export type Role = (typeof roles)[number];

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Normalized (NFKC, case-folded): the one form compared for uniqueness and login. */
    username: text('username').notNull().unique(),
    displayName: text('display_name').notNull(),
    bio: text('bio').notNull().default(''),
    city: text('city'),
    danceRole: text('dance_role', { enum: danceRoles }),
    avatarUrl: text('avatar_url'),
    roles: text('roles').array().notNull().$type<Role[]>(),
    passwordHash: text('password_hash').notNull(),
    /** Set on enrollment; MFA is on only once `mfa_enabled` is. */
    mfaSecret: text('mfa_secret'),
    mfaEnabled: boolean('mfa_enabled').notNull().default(false),
    /** Last TOTP time step accepted, so a code cannot be replayed. */
    mfaLastStep: bigint('mfa_last_step', { mode: 'number' }),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (table) => [
    index('users_created_at_id_idx').on(table.createdAt, table.id),
    index('users_city_lower_idx').on(sql`lower(${table.city})`),
  ],
);

/** One signed-in device: the family of its rotating refresh tokens. */
export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    device: text('device'),
    ip: text('ip'),
    createdAt: instant('created_at').notNull().defaultNow(),
    lastUsedAt: instant('last_used_at').notNull().defaultNow(),
    /** Absolute end of the session, however active it is. */
    expiresAt: instant('expires_at').notNull(),
    revokedAt: instant('revoked_at'),
    revokedReason: text('revoked_reason'),
  },
  (table) => [index('sessions_user_idx').on(table.userId, table.createdAt, table.id)],
);

export const refreshTokenStatuses = ['active', 'used', 'revoked'] as const;

/** Only a SHA-256 of each token is stored (RFC 6819 §5.1.4.1.3). */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    sessionId: uuid('session_id')
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull().unique(),
    parentId: uuid('parent_id'),
    status: text('status', { enum: refreshTokenStatuses }).notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
    /** Idle expiry: a token unused this long no longer works. */
    expiresAt: instant('expires_at').notNull(),
    usedAt: instant('used_at'),
  },
  (table) => [index('refresh_tokens_session_idx').on(table.sessionId)],
);

export const recoveryCodes = pgTable(
  'recovery_codes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull(),
    usedAt: instant('used_at'),
  },
  (table) => [uniqueIndex('recovery_codes_user_code_idx').on(table.userId, table.codeHash)],
);
