import { randomUUID } from 'node:crypto';

/** The request every HTTP benchmark sends: a 195-byte event, validated by the real NewEvent schema. */
export const eventBody = JSON.stringify({
  title: 'Milonga de los Jueves',
  kind: 'milonga',
  city: 'Buenos Aires',
  country: 'Argentina',
  venue: 'Salón Canning, Scalabrini Ortiz 1331',
  startsAt: '2026-12-03T22:00:00.000Z',
  endsAt: '2026-12-04T03:00:00.000Z',
});

export const BENCH_PATH = '/api/v1/events';
const organizerId = randomUUID();

/** What every server answers: the stored event, as the handler of createEvent would. */
export function storedEvent(input: Record<string, unknown>) {
  const now = new Date().toISOString();
  return {
    description: '',
    country: null,
    venue: null,
    capacity: null,
    groupId: null,
    ...input,
    id: randomUUID(),
    organizerId,
    goingCount: 0,
    interestedCount: 0,
    createdAt: now,
    updatedAt: now,
  };
}

/** Servers print this line once listening, so the runner learns the port. */
export function announce(port: number): void {
  process.stdout.write(`READY ${port}\n`);
}
