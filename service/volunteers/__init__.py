"""The public's volunteers: sign-up, vetting by the social agency, their own record."""
