"""Loaders for the official export and API formats (each returns a tidy pandas DataFrame).

- `bra_lagesbild_xlsx.read_lagesbild_workbook` — Brå "Indikatorer för kommuners lägesbild" xlsx
  (anmälda brott + NTU), to the long format of the Region Dalarna snapshot CSV.
- `bra_yearly_csv.read_bra_yearly_csv` — Brå "Anmälda brott i kommunerna YYYY.csv".
- `kolada_api.parse_kolada_values`, `read_kolada_pages`, `parse_kolada_municipalities`,
  `parse_kolada_municipality_groups` — Kolada API v3/v2 JSON.
- `scb_pxweb.parse_pxweb_v1`, `parse_jsonstat2`, `population_query_v1` — SCB population from
  PxWeb API v1 JSON and PxWebApi v2 json-stat2.
- `surveys.read_survey_workbook` — survey results typed into `templates/enkatresultat_mall.xlsx`.
- `activities.read_activity_workbook` — the activity log (årshjul) in
  `templates/aktivitetslogg_mall.xlsx`; refuses personal data.

Fetching (network) lives in `medlofte_analysis.fetch`; the templates are written by
`medlofte_analysis.templates_excel`.
"""
