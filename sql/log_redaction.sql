-- placeholder: replaced by the suite's cases
SELECT 1 AS placeholder;
