/** The installed models, the one in use, and running add/import jobs, kept current by `models.job` events. */
import type { EventPayload, OutputOf } from '../../src-main/contract/contract';
import { api } from '../lib/api';

type Listing = OutputOf<'models.list'>;
export type Job = EventPayload<'models.job'>;

class Models {
  list = $state<Listing | null>(null);
  jobs = $state<Job[]>([]);
  loaded = $state(false);

  constructor() {
    api.on('models.job', (job) => {
      const i = this.jobs.findIndex((j) => j.jobId === job.jobId);
      if (i >= 0) this.jobs[i] = job;
      else this.jobs.push(job);
      if (job.state === 'done') void this.refresh();
    });
  }

  get active() {
    return this.list?.active ?? null;
  }

  async refresh(): Promise<void> {
    const list = await api.models.list({});
    this.list = list;
    for (const job of list.jobs) if (!this.jobs.some((j) => j.jobId === job.jobId)) this.jobs.push(job);
    this.loaded = true;
  }
}

export const models = new Models();
