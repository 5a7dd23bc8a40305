from odoo import api, models


class AccountChartTemplate(models.AbstractModel):
    _inherit = "account.chart.template"

    @api.model
    def _insurance_notify_demo_charts(self, companies):
        """Demo data: the agencies invoice their clients, so each needs a chart
        of accounts and journals. When Accounting is installed in the same run
        its chart is only loaded at the end of the run, after this demo data:
        load the generic one now on the companies still without one."""
        companies = self.env["res.company"].browse(companies)
        for company in companies.filtered(lambda company: not company.chart_template):
            # The generic chart sets the company's currency to USD: an agency
            # keeps its own (the Lithuanian one invoices in EUR).
            currency = company.currency_id
            self.sudo().with_company(company)._load("generic_coa", company, install_demo=False)
            if company.currency_id != currency:
                company.sudo().currency_id = currency
