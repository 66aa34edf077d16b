/**
 * How domain services reach connected clients without knowing about sockets: the real-time
 * runtime implements it (Socket.IO rooms `user:{id}`, across instances with Redis); tests record it.
 */
export interface RealtimePort {
  /** Sends a server event to every connected device of each user. */
  toUsers(userIds: readonly string[], event: string, payload: unknown): void;
  /** Sends a server event to every device in a room (viewers of a post), but those of `exceptUserIds`. */
  toRoom(room: string, event: string, payload: unknown, exceptUserIds?: readonly string[]): void;
  /** Takes every connected device of each user out of a room (a group or conversation they left). */
  removeFromRoom(userIds: readonly string[], room: string): void;
  /** Connected sockets and distinct users, on every instance. */
  liveCounts(): Promise<{ sockets: number; users: number }>;
}

/** Until the real-time server is attached, events go nowhere. */
export const noRealtime: RealtimePort = {
  toUsers() {},
  toRoom() {},
  removeFromRoom() {},
  liveCounts: async () => ({ sockets: 0, users: 0 }),
};
