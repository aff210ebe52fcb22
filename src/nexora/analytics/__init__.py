"""Analytics: activity of machine identities, their behaviour profiles, detectors and alerts."""
