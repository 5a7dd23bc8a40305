/** The placeholder picker (# or the magic wand) of templates of insurance
 * models: amounts and dates come first (the server inserts them formatted,
 * "312,50 zł" and the client's date format, see _build_expression and
 * _insurance_format_picked), and technical fields (ID, activities, messages,
 * who created or wrote the record) are of no use in a client's text and are
 * hidden; everything else is stock. */
import { patch } from "@web/core/utils/patch";
import { sortBy } from "@web/core/utils/arrays";
import { DynamicPlaceholderPopover } from "@web/views/fields/dynamic_placeholder_popover";
import { ModelFieldSelectorPopover } from "@web/core/model_field_selector/model_field_selector_popover";

const TECHNICAL_FIELDS = new Set([
    "id",
    "display_name",
    "create_uid",
    "create_date",
    "write_uid",
    "write_date",
    "__last_update",
    "company_id",
]);
const TECHNICAL_PREFIXES = ["activity_", "my_activity_", "message_", "website_message", "has_message", "rating_"];
// Field types the server turns into format_amount / format_date / format_datetime.
const FORMATTED_TYPES = new Set(["monetary", "date", "datetime"]);

export function isInsuranceTechnicalField(fieldName) {
    return (
        TECHNICAL_FIELDS.has(fieldName) ||
        TECHNICAL_PREFIXES.some((prefix) => fieldName.startsWith(prefix))
    );
}

/** Formatted fields first, each group in the stock order (by label). */
export function formattedFirst(page) {
    const names = sortBy(page.sortedFieldNames, (name) =>
        FORMATTED_TYPES.has(page.fieldDefs[name].type) ? 0 : 1
    );
    page.sortedFieldNames = names;
    page.fieldNames = page.query ? page.fieldNames : names;
    page.resetFocusedFieldName();
    return page;
}

/** The stock selector, ordering the fields of an insurance template's pages. */
export class InsurancePlaceholderFieldSelector extends ModelFieldSelectorPopover {
    async loadPages(resModel, path) {
        const page = await super.loadPages(resModel, path);
        return this.props.resModel?.startsWith("insurance.") ? formattedFirst(page) : page;
    }

    openPage(page) {
        if (this.props.resModel?.startsWith("insurance.")) {
            formattedFirst(page);
        }
        return super.openPage(page);
    }
}

// Only the placeholder picker's selector: domain editors keep the stock one.
DynamicPlaceholderPopover.components = {
    ...DynamicPlaceholderPopover.components,
    ModelFieldSelectorPopover: InsurancePlaceholderFieldSelector,
};

patch(DynamicPlaceholderPopover.prototype, {
    filter(fieldDef, path) {
        if (this.props.resModel?.startsWith("insurance.") && isInsuranceTechnicalField(fieldDef.name)) {
            return false;
        }
        return super.filter(fieldDef, path);
    },
});
