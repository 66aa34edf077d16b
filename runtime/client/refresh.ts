export interface SingleFlight<T> {
  /** Joins the run in progress, or starts one. */
  run(): Promise<T>;
  readonly running: boolean;
}

/** Many requests failing with an expired token at once must cause one refresh, not one each. */
export function singleFlight<T>(task: () => Promise<T>): SingleFlight<T> {
  let current: Promise<T> | undefined;
  return {
    run() {
      current ??= Promise.resolve()
        .then(task)
        .finally(() => {
          current = undefined;
        });
      return current;
    },
    get running() {
      return current !== undefined;
    },
  };
}
