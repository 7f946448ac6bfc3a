/** The call widget connector's own keys of a `connectors[]` entry. */
import * as z from 'zod/mini';

/** The widget keys of a `connectors[]` entry: none besides `id`, `platform` and `ingestToken`. */
export const widgetSettings = z.strictObject({});

export type WidgetSettings = z.infer<typeof widgetSettings>;
