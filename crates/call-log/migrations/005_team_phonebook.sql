-- The team phonebook's copy: in team mode the relay keeps the team's contacts, and the app keeps
-- them here beside the operator's own, so search and the popup stay local and work offline.
-- team_id is the relay's id of a team contact (NULL for the operator's own contacts), and
-- team_version the phonebook version of its last change.
ALTER TABLE contacts ADD COLUMN team_id INTEGER;
ALTER TABLE contacts ADD COLUMN team_version INTEGER;
CREATE UNIQUE INDEX contacts_by_team_id ON contacts (team_id) WHERE team_id IS NOT NULL;

-- The version of the team phonebook applied last: the next sync asks for what changed since.
CREATE TABLE team_phonebook (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
) STRICT;
