/** The dashboard page: placeholder until the dashboard lands. */
export const DASHBOARD_HTML = '<!doctype html><title>sluice</title>'
