"""Pure-Python core of insurance_notify (never imports odoo)."""
