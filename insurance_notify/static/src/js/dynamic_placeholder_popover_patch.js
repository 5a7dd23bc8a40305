/** The placeholder picker (# or the magic wand) of templates of insurance
 * models: technical fields (ID, activities, messages, who created or wrote
 * the record) are of no use in a client's text and are hidden; everything
 * else is stock. */
import { patch } from "@web/core/utils/patch";
import { DynamicPlaceholderPopover } from "@web/views/fields/dynamic_placeholder_popover";

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
const TECHNICAL_PREFIXES = ["activity_", "message_", "website_message", "has_message", "rating_"];

export function isInsuranceTechnicalField(fieldName) {
    return (
        TECHNICAL_FIELDS.has(fieldName) ||
        TECHNICAL_PREFIXES.some((prefix) => fieldName.startsWith(prefix))
    );
}

patch(DynamicPlaceholderPopover.prototype, {
    filter(fieldDef, path) {
        if (this.props.resModel?.startsWith("insurance.") && isInsuranceTechnicalField(fieldDef.name)) {
            return false;
        }
        return super.filter(fieldDef, path);
    },
});
