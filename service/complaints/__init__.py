"""Complaints from the public and reports of elderly nobody reaches: tracking codes, working-day
deadlines, routing to the agencies, Open311."""
