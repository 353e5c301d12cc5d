-- Team mode: wrap-ups the team's server has not got yet are sent again when it is back.

-- 1 while the team's server has not got this wrap-up's latest save (it was unreachable); the app
-- sends it again when the link is back and clears the mark only if nothing was saved since. The
-- wrap-up itself is its row in `wrapups`: there is no second copy.
ALTER TABLE wrapups ADD COLUMN team_unsent INTEGER NOT NULL DEFAULT 0 CHECK (team_unsent IN (0, 1));
-- Whether the wrapped-up call was answered, as the team's required-tag rule needs it.
ALTER TABLE wrapups ADD COLUMN team_answered INTEGER NOT NULL DEFAULT 0 CHECK (team_answered IN (0, 1));

CREATE INDEX wrapups_team_unsent ON wrapups (saved_at) WHERE team_unsent = 1;
