"""Lambda entry points, composition only: Powertools decorators, the process's services, one operation call."""
