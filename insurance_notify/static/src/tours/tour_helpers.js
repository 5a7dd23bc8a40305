/** Steps that pick a record in a many2one field by typing its name. */
export function pick(field, text) {
    return [
        {
            content: `Type ${text} in ${field}`,
            trigger: `.o_field_widget[name=${field}] input`,
            run: `edit ${text}`,
        },
        {
            content: `Choose ${text}`,
            trigger: `.o-autocomplete--dropdown-item a:contains('${text}')`,
            run: "click",
        },
    ];
}
