{  # noqa: B018 (a manifest is a bare dict literal)
    "name": "Insurance Notifications: Invoices",
    "summary": "Invoice payment reminders (due and overdue) by SMS and e-mail",
    "version": "18.0.1.0.0",
    "category": "Sales/Insurance",
    "website": "https://github.com/insurance-notify/insurance_notify",
    "author": "insurance_notify",
    "license": "LGPL-3",
    "maintainers": ["insurance-notify"],
    "depends": ["insurance_notify", "account"],
    "auto_install": True,
    "uninstall_hook": "uninstall_hook",
    "data": [
        "data/sms_template_data.xml",
        "data/mail_template_data.xml",
        "data/insurance_notify_rule_data.xml",
        "views/account_move_views.xml",
        "views/insurance_notify_rule_views.xml",
    ],
    "demo": ["demo/account_demo.xml"],
    "assets": {
        "web.assets_tests": ["insurance_notify_account/static/src/tours/*.js"],
    },
}
