"""The catalogue plugin: programmes, courses, modules, lessons, cohorts, sessions, enrolment and progress."""
