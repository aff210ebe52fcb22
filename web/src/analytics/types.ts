/**
 * Analytics types the generated `schema.d.ts` cannot give: what the console reads of payloads the server
 * sends as free-form objects. Everything else is `Schemas[...]` (see useAlerts.ts, useActivity.ts).
 */

/**
 * One detector of the catalogue (`GET /analytics/detectors`, a list of free-form objects that grows with the
 * detectors: family, severity, ATT&CK mapping …). The console reads only its id and title.
 */
export interface DetectorInfo {
  id: string;
  title: string;
}
