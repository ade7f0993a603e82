/** One `tsuzuki <name>` command. `run` gets the arguments after the name and returns the exit code. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(args: string[]): Promise<number>;
}
