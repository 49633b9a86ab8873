-- The API counts length limits in text elements, what a person calls characters: a thumbs-up with a
-- skin tone is one, though it is two code points (and four UTF-16 units). char_length counts code
-- points, so its upper bounds would refuse text the service accepts. The service enforces the limits
-- (FieldErrors.Text); the request body limit bounds the size; the database keeps "not empty".
ALTER TABLE projects DROP CONSTRAINT projects_name_check,
    ADD CONSTRAINT projects_name_check CHECK (char_length(name) >= 1),
    DROP CONSTRAINT projects_description_check;

ALTER TABLE feature_flags DROP CONSTRAINT feature_flags_name_check,
    ADD CONSTRAINT feature_flags_name_check CHECK (char_length(name) >= 1),
    DROP CONSTRAINT feature_flags_description_check;

ALTER TABLE targeting_rules DROP CONSTRAINT targeting_rules_rule_value_check,
    ADD CONSTRAINT targeting_rules_rule_value_check CHECK (char_length(rule_value) >= 1);
