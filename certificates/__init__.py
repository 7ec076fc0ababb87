"""The certificates plugin: templates, issuing rules, PDF, verification, revocation, Open Badges 3.0."""
