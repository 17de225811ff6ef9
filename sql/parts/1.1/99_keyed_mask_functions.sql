------------------------------------------------------------------------
-- privacy.mask_noise is for privacy_admin, as mask_fake: its noise is
-- derived from the value under a key of the root key, the same for every
-- caller, so a role that could call it could try the values of the band
-- around what a noise() rule shows it and keep the one whose noise matches
-- (a masking view's salaries read back exactly).  Masking views apply the
-- rule in C (apply_mask), not through this function.
------------------------------------------------------------------------
REVOKE ALL ON FUNCTION privacy.mask_noise(int4, float8), privacy.mask_noise(int8, float8),
    privacy.mask_noise(float8, float8), privacy.mask_noise(numeric, float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.mask_noise(int4, float8), privacy.mask_noise(int8, float8),
    privacy.mask_noise(float8, float8), privacy.mask_noise(numeric, float8) TO privacy_admin;
