/** What the writer's commit hands its projections and outbox: one row each, in its own module so that they and the store do not import each other. */
import type { SwitchboardEvent } from '../../../core/index.js';

/** An event inserted by the transaction in progress. */
export interface InsertedEvent {
  readonly seq: number;
  readonly connectorId: string;
  readonly event: SwitchboardEvent;
}
