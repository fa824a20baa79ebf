"""The same seven indicators as hand-written DuckDB SQL on the same Parquet files, by facility and month.

    python benchmarks/duckdb_sql.py DATA DDD_PER_UNIT.parquet OUT.parquet

The drug dictionary's DDDs per unit come from qcindicators' dictionary resolution (24 rows,
written by run.py): the SQL does the joins and aggregation.
"""
import sys

import duckdb

SQL = """
WITH
ddd AS (SELECT drug_code, ddd_per_unit FROM read_parquet('{ddd}') WHERE is_antibacterial),
stays AS (
  SELECT facility_id, encounter_id, strftime(discharge_date, '%Y-%m') AS period,
         greatest(date_diff('day', admit_date, discharge_date), 1) AS los, total_cost, drug_cost
  FROM read_parquet('{d}/discharges.parquet')),
lines AS (
  SELECT o.facility_id, o.encounter_id, strftime(o.order_date, '%Y-%m') AS period, o.quantity * ddd.ddd_per_unit AS ddds
  FROM read_parquet('{d}/drug_orders.parquet') o JOIN ddd USING (drug_code)
  WHERE o.setting = '住院'),
days AS (SELECT facility_id, period, sum(los) AS den FROM stays GROUP BY ALL),
aud AS (
  SELECT 'antibacterial_use_density' AS indicator, facility_id, period, coalesce(n.num, 0) AS numerator,
         coalesce(days.den, 0) AS denominator
  FROM (SELECT facility_id, period, sum(ddds) AS num FROM lines GROUP BY ALL) n FULL JOIN days USING (facility_id, period)),
cohort AS (
  SELECT 'antibacterial_use_density_discharge_cohort' AS indicator, facility_id, period,
         coalesce(n.num, 0) AS numerator, days.den AS denominator
  FROM (SELECT l.facility_id, s.period, sum(l.ddds) AS num FROM lines l JOIN stays s USING (facility_id, encounter_id)
        GROUP BY ALL) n RIGHT JOIN days USING (facility_id, period)),
means AS (
  SELECT 'inpatient_cost_per_discharge' AS base, facility_id, period, avg(total_cost) AS v FROM stays GROUP BY ALL
  UNION ALL SELECT 'inpatient_drug_cost_per_discharge', facility_id, period, avg(drug_cost) FROM stays GROUP BY ALL
  UNION ALL SELECT 'outpatient_cost_per_visit', facility_id, strftime(visit_date, '%Y-%m'), avg(total_cost)
            FROM read_parquet('{d}/visits.parquet') GROUP BY ALL
  UNION ALL SELECT 'outpatient_drug_cost_per_visit', facility_id, strftime(visit_date, '%Y-%m'), avg(drug_cost)
            FROM read_parquet('{d}/visits.parquet') GROUP BY ALL),
growth AS (
  SELECT c.base || '_growth' AS indicator, c.facility_id, c.period, c.v AS numerator, p.v AS denominator
  FROM means c LEFT JOIN means p ON p.base = c.base AND p.facility_id = c.facility_id
   AND p.period = strftime(strptime(c.period || '-01', '%Y-%m-%d') - INTERVAL 1 YEAR, '%Y-%m')),
staff AS (
  SELECT 'ic_staff_per_250_beds' AS indicator, facility_id, period, sum(ic_staff) AS numerator, sum(open_beds) AS denominator
  FROM read_parquet('{d}/facility_periods.parquet') WHERE length(period) = 7 GROUP BY ALL)
SELECT indicator, facility_id, period, numerator, denominator,
       CASE WHEN denominator = 0 THEN NULL
            WHEN indicator LIKE '%growth' THEN (numerator - denominator) / denominator * 100
            WHEN indicator LIKE 'antibacterial%' THEN numerator / denominator * 100
            ELSE numerator * 250 / denominator END AS value
FROM (SELECT * FROM aud UNION ALL SELECT * FROM cohort UNION ALL SELECT * FROM growth UNION ALL SELECT * FROM staff)
"""

if __name__ == "__main__":
    data, ddd, out = sys.argv[1:4]
    con = duckdb.connect()
    con.execute(f"COPY ({SQL.format(d=data, ddd=ddd)}) TO '{out}' (FORMAT parquet)")
