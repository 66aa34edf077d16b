import type { Socket } from 'socket.io';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { expiryQueue } from '../../../runtime/realtime/server';

const socket = (name: string) => ({ id: name }) as unknown as Socket;

describe('the token expiry queue', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('closes each socket at its own second, earliest first, and never one that left before', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const expired: string[] = [];
    const queue = expiryQueue((s) => expired.push(s.id));
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(socket) as [Socket, Socket, Socket, Socket];
    queue.add(b, 1_003_000);
    queue.add(a, 1_001_000);
    queue.add(c, 1_001_000);
    queue.add(d, 1_002_000);
    queue.remove(c, 1_001_000);
    vi.advanceTimersByTime(999);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['a']);
    queue.remove(d, 1_002_000);
    vi.advanceTimersByTime(2_000);
    expect(expired).toEqual(['a', 'b']);
    // An earlier expiry added later re-arms the one timer for it.
    queue.add(d, 1_010_000);
    queue.add(c, 1_005_000);
    vi.advanceTimersByTime(2_000);
    expect(expired).toEqual(['a', 'b', 'c']);
    vi.advanceTimersByTime(5_000);
    expect(expired).toEqual(['a', 'b', 'c', 'd']);
    expect(vi.getTimerCount()).toBe(0);
  });
});
