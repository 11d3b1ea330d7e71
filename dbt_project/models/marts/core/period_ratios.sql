{#- The ratios a page computes over a period or a selection (a date range, some shops, some months): each is the
    sum of its numerator over the sum of its denominator across the mart's rows — the mart's own per-row
    definition, pooled (a ratio of sums, never a mean of ratios). Numerator and denominator are SQL expressions
    over the mart's columns. Declared here once, beside the marts; the dashboards read this table and compute
    every pooled ratio from it (dashboards/ratios.py). `kind` says how it is shown: money (yuan per unit,
    rounded to cents half up) or rate (a share, a percentage on the page). The singular test
    tests/period_ratios_name_their_marts_columns.sql checks that every expression reads its mart. -#}
select * from (
    values
        ('aov_cny', 'channel_daily_performance', 'net_sales_cny', 'orders', 'money'),
        ('refund_rate', 'channel_daily_performance', 'refunds_cny', 'net_sales_cny', 'rate'),
        ('asp_cny', 'channel_daily_performance', 'net_sales_cny', 'units', 'money'),
        ('margin_pct', 'channel_daily_performance', 'contribution_margin_cny', 'net_revenue_cny', 'rate'),
        ('sku_margin_pct', 'sku_margins', 'contribution_margin_cny', 'net_revenue_cny', 'rate'),
        ('margin_after_ads_pct', 'shop_monthly_pnl', 'contribution_after_ads_cny', 'net_revenue_cny', 'rate'),
        ('profit_per_order_cny', 'shop_monthly_pnl', 'contribution_after_ads_cny', 'orders', 'money'),
        ('on_time_rate', 'supplier_performance', 'lines_on_time', 'lines_rated', 'rate'),
        ('fill_rate', 'supplier_performance', 'units_received_of_due', 'units_due', 'rate'),
        (
            'match_rate', 'settlement_reconciliation_monthly', 'matched_orders',
            'matched_orders + amount_mismatch_orders + missing_settlement_orders + duplicate_bill_orders', 'rate'
        ),
        ('promotion_roi', 'promotion_results', 'incremental_profit_cny', 'promo_cost_cny', 'rate'),
        ('return_rate', 'return_analysis', 'units_returned', 'units_sold', 'rate')
) as ratios (ratio, mart, numerator, denominator, kind)
