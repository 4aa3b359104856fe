// One message at a time: a handler runs to completion before the next one starts, whichever way
// (live, poll, push, another tab) the messages came in.
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => {});
    return result;
  }
}
