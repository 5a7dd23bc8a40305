def uninstall_hook(env):
    """Uninstalling the bridge: nothing more leaves, the history stays.

    Runs before the module's records are removed: the shipped rules that sent
    something lose their external id, so the removal keeps them (a message
    keeps its rule); the selection's ondelete then archives them."""
    rules = (
        env["insurance.notify.rule"]
        .sudo()
        .with_context(active_test=False)
        .search([("event_type", "in", ("invoice_due", "invoice_overdue"))])
    )
    rules._notify_ondelete_invoice_rules()
    env["ir.model.data"].sudo().search(
        [
            ("module", "=", "insurance_notify_account"),
            ("model", "=", "insurance.notify.rule"),
            ("res_id", "in", rules.exists().ids),
        ]
    ).unlink()
    # The partial index of open receivable lines serves the planner only.
    env.cr.execute("DROP INDEX IF EXISTS account_move_line_notify_open_receivable_idx")
